// A JSON body as a collapsible tree: the top level open, everything below on demand, long
// arrays and objects a hundred children at a time, so even a large body draws at once.
import { useMemo, useState } from 'preact/hooks';
import { TREE_OPEN_LEVELS } from '../lib/json-limits.ts';
import { entriesOf, kindOf, leafText, nestsDeeperThan, parseExact, summaryOf } from '../lib/json-tree.ts';

const PAGE = 100;
/** Re-parsing to keep number text costs more: only for bodies up to this size. */
const EXACT_MAX = 256 * 1024;

export function JsonTree({ text, value }: { text: string; value: unknown }) {
  const root = useMemo(() => {
    if (text.length > EXACT_MAX) return value;
    try {
      return parseExact(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    } catch {
      return value;
    }
  }, [text, value]);
  const [gen, setGen] = useState(0);
  const [openAll, setOpenAll] = useState(false);
  const big = text.length > EXACT_MAX;
  // Opening thousands of levels at once overflowed the stack: it opens the first TREE_OPEN_LEVELS.
  const deep = useMemo(() => !big && nestsDeeperThan(root, TREE_OPEN_LEVELS), [big, root]);
  const why = big ? 'Too big to open at once: open the parts you need' : deep ? `Opens the first ${TREE_OPEN_LEVELS} levels: deeper ones open one at a time` : undefined;
  return (
    <div class="json-tree-wrap">
      <div class="row small">
        <button type="button" class="btn btn-small" onClick={() => (setOpenAll(true), setGen(gen + 1))} disabled={big} title={why} data-testid="expand-all">
          Expand all
        </button>
        <button type="button" class="btn btn-small" onClick={() => (setOpenAll(false), setGen(gen + 1))}>
          Collapse all
        </button>
      </div>
      <ul class="json-tree" data-testid="json-tree" key={gen}>
        <TreeNode name={null} value={root} depth={0} openAll={openAll} />
      </ul>
    </div>
  );
}

function TreeNode({ name, value, depth, openAll }: { name: string | null; value: unknown; depth: number; openAll: boolean }) {
  const kind = kindOf(value);
  const branch = kind === 'object' || kind === 'array';
  const [open, setOpen] = useState((openAll && depth < TREE_OPEN_LEVELS) || depth === 0);
  const [shown, setShown] = useState(PAGE);
  const key = name !== null && <span class="j-key">{name}: </span>;
  if (!branch) {
    return (
      <li class="jt-leaf">
        {key}
        <span class={`j-${kind === 'literal' ? 'literal' : kind}`}>{leafText(value)}</span>
      </li>
    );
  }
  const entries = open ? entriesOf(value) : [];
  const empty = !open && entriesOf(value).length === 0;
  return (
    <li class="jt-branch" data-depth={depth}>
      <button type="button" class="jt-toggle" aria-expanded={open} onClick={() => setOpen(!open)} disabled={empty} data-testid="jt-toggle">
        <span class="jt-caret" aria-hidden="true">
          {open ? '▾' : '▸'}
        </span>
        {key}
        <span class="muted">{open ? (kind === 'array' ? '[' : '{') : empty ? (kind === 'array' ? '[]' : '{}') : summaryOf(value)}</span>
      </button>
      {open && (
        <>
          <ul class="json-tree">
            {entries.slice(0, shown).map(([k, v]) => (
              <TreeNode key={k} name={kind === 'array' ? k : JSON.stringify(k)} value={v} depth={depth + 1} openAll={openAll} />
            ))}
            {entries.length > shown && (
              <li>
                <button type="button" class="btn btn-small" onClick={() => setShown((s) => s + PAGE)}>
                  Show {Math.min(PAGE, entries.length - shown)} more of {entries.length - shown}
                </button>
              </li>
            )}
          </ul>
          <span class="muted jt-close">{kind === 'array' ? ']' : '}'}</span>
        </>
      )}
    </li>
  );
}
