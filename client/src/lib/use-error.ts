// An error message a component shows, that does not outlive its cause: a "Cannot reach the
// hooklab server" message goes away by itself once the server answers again (and `onBack`
// may retry what failed).
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage, isNetworkError } from './api.ts';
import { onReachable } from './reachability.ts';

interface Shown {
  message: string;
  network: boolean;
}

export function useError(onBack?: () => void): [string | null, (err: unknown) => void] {
  const [shown, setShown] = useState<Shown | null>(null);
  const cur = useRef<Shown | null>(null);
  cur.current = shown;
  const back = useRef(onBack);
  back.current = onBack;
  useEffect(
    () =>
      onReachable(() => {
        if (!cur.current?.network) return;
        setShown(null);
        back.current?.();
      }),
    [],
  );
  const set = useCallback((err: unknown) => setShown(err == null ? null : { message: typeof err === 'string' ? err : errorMessage(err), network: isNetworkError(err) }), []);
  return [shown?.message ?? null, set];
}
