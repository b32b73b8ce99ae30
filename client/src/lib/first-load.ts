// A form's first load, asked for again when the server comes back (the socket connecting,
// another call getting through). Only one is ever in flight and none after one succeeded: a
// second load landing after the form was shown would put the saved values back over what the
// user had typed meanwhile (the socket connects during every page load).
export function firstLoader<T>(load: () => Promise<T>, onLoaded: (value: T) => void, onError: (err: unknown) => void): () => void {
  let state: 'idle' | 'loading' | 'done' = 'idle';
  return () => {
    if (state !== 'idle') return;
    state = 'loading';
    load().then(
      (v) => {
        state = 'done';
        onLoaded(v);
      },
      (err) => {
        state = 'idle';
        onError(err);
      },
    );
  };
}
