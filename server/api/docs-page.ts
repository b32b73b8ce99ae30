// GET /api/docs: the OpenAPI document as a plain page, rendered here. No script at all, so it
// works under the UI's Content-Security-Policy and in any browser.
const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Op {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: unknown }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}
interface Doc {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Op>>;
  components?: { schemas?: Record<string, unknown> };
}

/** A schema as JSON, with $refs turned into links to the component's section. */
function schemaHtml(schema: unknown): string {
  const text = esc(JSON.stringify(schema, null, 2));
  return `<pre>${text.replace(/&#34;#\/components\/schemas\/(\w+)&#34;/g, (_m, name: string) => `&#34;<a href="#schema-${name}">${name}</a>&#34;`)}</pre>`;
}

export function docsPage(doc: Doc): string {
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? 'API';
      const params = (op.parameters ?? [])
        .map((p) => `<li><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ', required' : ''})${p.description ? ` — ${esc(p.description)}` : ''}</li>`)
        .join('');
      const reqBody = op.requestBody?.content?.['application/json']?.schema;
      const responses = Object.entries(op.responses ?? {})
        .map(([status, r]) => {
          const s = r.content?.['application/json']?.schema;
          return `<li><b>${esc(status)}</b> ${esc(r.description ?? '')}${s ? schemaHtml(s) : ''}</li>`;
        })
        .join('');
      const html = `<section class="op"><h3><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3>
${op.summary ? `<p>${esc(op.summary)}</p>` : ''}${op.description ? `<p>${esc(op.description)}</p>` : ''}
${params ? `<h4>Parameters</h4><ul>${params}</ul>` : ''}
${reqBody ? `<h4>Body</h4>${schemaHtml(reqBody)}` : ''}
<h4>Answers</h4><ul>${responses}</ul></section>`;
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push(html);
    }
  }
  const schemas = Object.entries(doc.components?.schemas ?? {})
    .map(([name, s]) => `<section id="schema-${esc(name)}"><h3>${esc(name)}</h3>${schemaHtml(s)}</section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(doc.info.title)} API ${esc(doc.info.version)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem}
pre{background:#f4f4f5;padding:.5rem;overflow:auto;font-size:12px;max-height:24rem}
code{font-size:.95em}.op{border-top:1px solid #ddd;padding:.25rem 0}
.m{display:inline-block;min-width:4.2rem;font:600 12px monospace;padding:2px 6px;border-radius:4px;background:#e4e4e7}
.get{background:#dbeafe}.post{background:#dcfce7}.put,.patch{background:#fef9c3}.delete{background:#fee2e2}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}pre{background:#1c1c1f}.m{color:#111}a{color:#8ab4f8}}
</style></head><body>
<h1>${esc(doc.info.title)} API <small>${esc(doc.info.version)}</small></h1>
<p>${esc(doc.info.description ?? '')}</p>
<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1).</p>
<nav><ul>${[...byTag.keys()].map((t) => `<li><a href="#tag-${esc(t)}">${esc(t)}</a></li>`).join('')}<li><a href="#schemas">Schemas</a></li></ul></nav>
${[...byTag].map(([t, ops]) => `<h2 id="tag-${esc(t)}">${esc(t)}</h2>\n${ops.join('\n')}`).join('\n')}
<h2 id="schemas">Schemas</h2>
${schemas}
</body></html>`;
}
