import { packPayload } from './container.ts';
import { renderHtml } from './html.ts';
import { buildPayload } from './payload.ts';
import type { ReportInput } from './types.ts';

/** The complete, self-contained HTML report for `input`. */
export function buildReport(input: ReportInput): string {
  const { header, columns } = buildPayload(input);
  return renderHtml(packPayload(header, columns).toString('base64'));
}
