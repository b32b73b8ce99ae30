// Kept apart from connection.ts so that showing REDIS_URL does not load the Redis client.

/** The URL as it may be shown (no password). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'REDIS_URL (unparsable)';
  }
}
