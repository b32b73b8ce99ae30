// Whether a store is the Redis one, told without loading its module (and with it the Redis
// client, ~70-120 ms of every start here): most hooklabs never use it.
import type { Store } from '../types.ts';
import type { RedisStore } from './redis-store.ts';

export const isRedisStore = (s: Store): s is RedisStore => (s as { driver?: string }).driver === 'redis';
