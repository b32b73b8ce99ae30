// Revisions of settings resources (a bin's response settings, a webhook): an ETag from their
// content, and If-Match checks, so a writer working from a stale copy gets 412 instead of
// silently replacing newer settings.
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { HttpError } from './errors.ts';

export function etagOf(value: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 22)}"`;
}

/** Throw 412 when the request's If-Match names another revision (absent or * always passes). */
export function checkIfMatch(req: Request, current: string): void {
  const want = req.headers['if-match'];
  if (!want || want.trim() === '*') return;
  const tags = want.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (!tags.includes(current)) {
    throw new HttpError(412, 'precondition_failed', `changed since you read it: now at revision ${current}. Reload, then apply your change again.`);
  }
}

/**
 * Answer a GET whose ETag covers the settings only (what If-Match guards) while the body also
 * shows state that moves without them (a plan's position, a webhook's failure streak): never
 * a 304, which would hand a browser its stale copy of that state, and nothing to keep.
 */
export function sendSettingsView(req: Request, res: Response, etag: string, body: unknown): void {
  // Express answers 304 when If-None-Match names the ETag (req.fresh): not here.
  delete req.headers['if-none-match'];
  res.setHeader('etag', etag);
  res.setHeader('cache-control', 'no-store');
  res.json(body);
}
