/** A health check as the chart and the verdicts list read it (`GET deployments/{id}/checks`). */
import type { HealthCheckView } from "@canaryroll/api/Dashboard"

export type HealthCheck = typeof HealthCheckView.Type

export const rateText = (sample: HealthCheck["canary"]) => sample === null ? "no data" : `${(sample.errorRate * 100).toFixed(2)}%`
