// A form's first load, asked for again when the server comes back (the socket connecting,
// another call getting through). Only one is ever in flight and none after one succeeded: a
// second load landing after the form was shown would put the saved values back over what the
// user had typed meanwhile (the socket connects during every page load).
export function firstLoader<T>(load: () => Promise<T>, onLoaded: (value: T) => void, onError: (err: unknown) => void): () => void {
  let state: 'idle' | 'loading' | 'done' = 'idle';
  /** Asked for while one was loading: if that one fails, the server may be back since, so again at once. */
  let askedMeanwhile = false;
  const run = (): void => {
    if (state === 'loading') {
      askedMeanwhile = true;
      return;
    }
    if (state === 'done') return;
    state = 'loading';
    askedMeanwhile = false;
    load().then(
      (v) => {
        state = 'done';
        onLoaded(v);
      },
      (err) => {
        state = 'idle';
        onError(err);
        if (askedMeanwhile) run();
      },
    );
  };
  return run;
}
