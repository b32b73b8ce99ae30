// One NDJSON export line of a small capture (what POST /api/bins/:id/import reads), with
// `change` applied: the import tests build their input from it.
export function exportLine(change: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: 'x',
    method: 'POST',
    path: '/p',
    queryString: '',
    headers: [['Content-Type', 'text/plain']],
    ip: '203.0.113.9',
    receivedAt: '2026-01-02T03:04:05.000Z',
    size: 2,
    truncated: false,
    contentType: 'text/plain',
    answer: { status: 200, delayMs: 0, fault: null, source: 'default', index: null, roll: null },
    body: Buffer.from('hi').toString('base64'),
    ...change,
  });
}
