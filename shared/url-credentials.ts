// A user name or password in a target URL: refused by the server's forward and webhook settings
// and by `hooklab forward --to`. It ends up in logs and screens, and a target behind Basic auth
// would not get it anyway (the signing secret is the place for a shared secret).

export const WITH_CREDENTIALS = 'must not contain a user name or password';

/** Whether an http(s) URL holds credentials ("user:pw@", "user@", even a bare "@"), as WHATWG URL parsing reads its authority. */
export function hasCredentials(s: string): boolean {
  const authority = s.trim().replace(/^[^:]*:[/\\]*/, '').split(/[/\\?#]/)[0];
  if (authority.includes('@')) return true;
  try {
    const u = new URL(s.trim());
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
}
