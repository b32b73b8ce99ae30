// Kept apart from connection.ts so that start-up can name this error without loading the Redis client.

/** The store could not reach Redis at start-up. */
export class RedisUnavailableError extends Error {}
