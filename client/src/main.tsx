import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Bin } from '../../shared/api.ts';

function App() {
  const [bins, setBins] = useState<Bin[]>([]);
  const load = () => fetch('/api/bins').then((r) => r.json()).then((b: { bins: Bin[] }) => setBins(b.bins));
  useEffect(() => void load(), []);
  const create = async () => {
    await fetch('/api/bins', { method: 'POST' });
    await load();
  };
  return (
    <main>
      <h1>hooklab</h1>
      <button onClick={create}>New bin</button>
      <ul>
        {bins.map((b) => (
          <li key={b.id}>
            <code>{b.url}</code> — {b.requestCount} requests
          </li>
        ))}
      </ul>
    </main>
  );
}

render(<App />, document.getElementById('app')!);
