// A delivery's attempts on one line: time since the event from 0 to the deadline on a log
// scale (seconds and hours both read), filled marks for attempts coloured by result and
// labelled with the status code (or T/O, RST, …; a code that would overlap another is left
// out, the first and last attempt's kept), hollow marks for attempts still planned,
// the deadline as a line. Attempts made after the deadline (manual retries) go right of it,
// in order. Marks are keyboard buttons. Tick labels that would touch the deadline's or each
// other are left out; marks a few px apart lose their outline, so a dense run stays coloured.
import { useRef } from 'preact/hooks';
import type { Attempt } from '../../../shared/api.ts';
import { formatDuration } from '../lib/format.ts';
import { type AttemptMark, type PlannedMark, attemptLabel, codesShown, denseMarks, markText, tickLabelsShown, ticks, timelineLayout } from '../lib/timeline.ts';
import { useElementWidth } from '../lib/use-element-width.ts';

const PAD = 3; // percent of the width kept free at each end, so edge marks are whole

const x = (f: number) => `${PAD + f * (100 - 2 * PAD)}%`;

interface Props {
  deadlineMs: number;
  attempts: AttemptMark[];
  planned: PlannedMark[];
  /** Ms since the event "now" is (virtual time), to draw where the clock stands. */
  nowT?: number | null;
  createdAt?: string;
  selectedN?: number | null;
  onSelect?: (a: Attempt) => void;
  label: string;
  testId?: string;
}

export function Timeline({ deadlineMs, attempts, planned, nowT, createdAt, selectedN, onSelect, label, testId = 'timeline' }: Props) {
  const { f, deadlineF, marks } = timelineLayout(deadlineMs, attempts);
  const tks = ticks(deadlineMs);
  const activate = (a: Attempt) => onSelect?.(a);
  const svg = useRef<SVGSVGElement>(null);
  const width = useElementWidth(svg);
  const px = (f: number) => (width * (PAD + f * (100 - 2 * PAD))) / 100;
  const codes = attempts.map((m) => markText(m.attempt));
  const markXs = marks.map(px);
  // Codes that would overlap one already drawn are left out (many close attempts made a black band).
  const shownCodes = codesShown(markXs, codes);
  const dense = denseMarks(markXs);
  const deadlineText = formatDuration(deadlineMs);
  const tickLabels = tickLabelsShown(
    tks,
    tks.map((t) => px(f(t.t))),
    px(deadlineF),
    deadlineText,
  );
  return (
    <svg
      ref={svg}
      class="timeline"
      width="100%"
      height="74"
      role="group"
      aria-label={label}
      data-testid={testId}
      data-attempts={attempts.length}
      data-planned={planned.length}
      data-codes={shownCodes.filter(Boolean).length}
      data-tick-labels={tks.filter((_, i) => tickLabels[i]).map((t) => t.label).join(',')}
    >
      <line class="axis" x1={x(0)} x2={x(deadlineF)} y1="34" y2="34" />
      {deadlineF < 1 && (
        <line class="axis axis-past" x1={x(deadlineF)} x2={x(1)} y1="34" y2="34">
          <title>After the deadline (attempts in order, not to scale)</title>
        </line>
      )}
      {tks.map((t, i) => (
        <g key={t.t} class={t.major ? 'tick tick-major' : 'tick tick-minor'}>
          <line x1={x(f(t.t))} x2={x(f(t.t))} y1="30" y2="38" />
          {tickLabels[i] && (
            <text x={x(f(t.t))} y="54" text-anchor={t.t === 0 ? 'start' : 'middle'}>
              {t.label}
            </text>
          )}
        </g>
      ))}
      <g class="deadline">
        <line x1={x(deadlineF)} x2={x(deadlineF)} y1="8" y2="44" />
        <text x={x(deadlineF)} y="54" text-anchor="end">
          {deadlineText}
        </text>
        <text x={x(deadlineF)} y="68" text-anchor="end" class="deadline-label">
          deadline
        </text>
      </g>
      {nowT !== undefined && nowT !== null && nowT >= 0 && nowT <= deadlineMs && (
        <line class="now-line" x1={x(f(nowT))} x2={x(f(nowT))} y1="14" y2="40" data-testid="now-line">
          <title>Now: +{formatDuration(nowT)}</title>
        </line>
      )}
      {planned.map((p) => (
        <circle key={`p${p.n}`} class="mark-planned" cx={x(f(p.t))} cy="22" r="6" data-planned-n={p.n}>
          <title>
            Planned attempt {p.n} at +{formatDuration(p.t)}
          </title>
        </circle>
      ))}
      {attempts.map((m, i) => {
        const at = x(marks[i]);
        const label = createdAt ? attemptLabel(m.attempt, createdAt) : `Attempt ${m.n}`;
        const sel = selectedN === m.n;
        return (
          <g
            key={`a${m.n}`}
            class={`mark mark-${m.tone}${sel ? ' selected' : ''}${m.attempt.manual ? ' manual' : ''}${dense[i] ? ' dense' : ''}`}
            role="button"
            // SVG attributes are case-sensitive: Preact sets them verbatim, so it must be lowercase.
            tabindex={0}
            aria-label={label}
            aria-pressed={sel}
            data-attempt-n={m.n}
            data-tone={m.tone}
            onClick={() => activate(m.attempt)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                activate(m.attempt);
              }
            }}
          >
            <title>{label}</title>
            <circle class="hit" cx={at} cy="22" r="12" />
            <circle class="ring" cx={at} cy="22" r="10" />
            <circle class="dot" cx={at} cy="22" r={m.attempt.manual ? 5 : 7} />
          </g>
        );
      })}
      {/* The status codes above the marks: outside the buttons (their names already say it). */}
      <g aria-hidden="true">
        {attempts.map(
          (m, i) =>
            shownCodes[i] && (
              <text key={`c${m.n}`} class="mark-code" x={x(marks[i])} y="9" text-anchor="middle" data-code-n={m.n}>
                {codes[i]}
              </text>
            ),
        )}
      </g>
    </svg>
  );
}
