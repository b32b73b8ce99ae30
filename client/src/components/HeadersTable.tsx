import type { HeaderPair } from '../../../shared/api.ts';

/** Name/value pairs in order, repeats kept, shown as text. */
export function PairsTable({ pairs, label, testId, empty = 'None' }: { pairs: HeaderPair[]; label: string; testId?: string; empty?: string }) {
  if (pairs.length === 0) return <p class="muted">{empty}</p>;
  return (
    <table class="pairs" aria-label={label} data-testid={testId}>
      <tbody>
        {pairs.map(([name, value], i) => (
          <tr key={i}>
            <th scope="row">{name}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
