import { formatAbsolute, formatAgo } from '../lib/format.ts';
import { useTicking } from '../lib/ticker.ts';

/** "12 s ago", kept current; the exact local time on hover and for assistive tech. */
export function RelTime({ iso, testId }: { iso: string; testId?: string }) {
  const text = useTicking((now) => formatAgo(iso, now), [iso]);
  const abs = formatAbsolute(iso);
  return (
    <time dateTime={iso} title={abs} data-testid={testId}>
      {text}
    </time>
  );
}
