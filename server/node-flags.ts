// The Node flags the server runs with: `npm start` and `npm run serve` (package.json says them
// again: a test keeps the two alike); the tests and the benchmarks spawn the server with them.
//
// --max-semi-space-size=32 (MB; Node 20's default is 16): a capture flood allocates ~17 KB per
// capture, so with the default young generation a scavenge came every ~40 ms and copied what
// was alive at that moment (captures waiting for their write, their live event, their answer).
// Twice the room lets more of that die first. Measured in alternating slices of a flood
// (2 s each, both running at once): +4 % and +13 % captures/s, with no higher RSS (peak 180
// against 206 MB after a 5 s flood); 24 MB was about the same (0.98x, a noisy run), 64 MB was
// 8 % slower than 32.
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
