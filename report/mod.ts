/**
 * Run reports: read run folders, compare them in a table (terminal, CSV, HTML) and plot their
 * curves into a self-contained HTML page; and the live local dashboard. Used by
 * `gossamer compare`, `gossamer run --report`, `gossamer serve`, the demo and the experiments
 * runner.
 *
 * @module
 */

export {
  buildReport,
  renderCharts,
  type Report,
  type ReportOptions,
  type SvgChart,
} from "./report.ts";
export { compareCsv, type CompareRow, compareText } from "./compare_table.ts";
export {
  type DashboardOptions,
  isLoopbackHost,
  listRuns,
  type RunEntry,
  serveDashboard,
} from "./dashboard.ts";
export type { LatestLines } from "./membership.ts";
export {
  parseMetrics,
  readRun,
  type RunData,
  RunDataError,
  type RunRecord,
  type RunStatus,
} from "./run_data.ts";
export type { Phase, PhaseBytes } from "../dsl/traffic.ts";
