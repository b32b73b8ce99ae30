// The file name a captured body downloads as, from its content type: the server's
// Content-Disposition and the UI's "Copy as cURL" (which tells you to save it) agree on it.

const BY_TYPE: Record<string, string> = {
  'application/json': 'json',
  'application/ld+json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/xml': 'xml',
  'text/xml': 'xml',
  'text/html': 'html',
  'text/plain': 'txt',
  'text/csv': 'csv',
  'application/x-www-form-urlencoded': 'txt',
  'multipart/form-data': 'multipart',
  'application/pdf': 'pdf',
  'application/zip': 'zip',
  'application/gzip': 'gz',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/svg+xml': 'svg',
  'application/octet-stream': 'bin',
};

export function extensionFor(contentType: string | null): string {
  const t = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (BY_TYPE[t]) return BY_TYPE[t];
  if (t.endsWith('+json')) return 'json';
  if (t.endsWith('+xml')) return 'xml';
  if (t.startsWith('text/')) return 'txt';
  return 'bin';
}

/** "<request id>.<extension>", e.g. 0mx4t7iwj0000q0nwq4.json */
export const downloadName = (id: string, contentType: string | null) => `${id}.${extensionFor(contentType)}`;
