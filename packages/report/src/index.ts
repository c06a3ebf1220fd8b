/**
 * @csq/report: a self-contained HTML report with inline SVG charts for a csq run directory.
 * `renderReport` works anywhere; `writeReport` (Node) reads and writes the files.
 */

export {
  type MetricsRecord,
  parseMetrics,
  parseSummary,
  readMetrics,
  type SummaryRecord,
} from '@csq/run-format';
export {
  COLORS,
  formatCount,
  type ReportInput,
  renderReport,
  seriesLines,
  xValues,
} from './render.js';
export { escapeXml, niceDomain, niceTicks } from './svg.js';
export { writeReport } from './write.js';
