/**
 * The release plan this team ships its `checkout` Worker with: small steps first, a long soak
 * at half the traffic, and a health policy that rolls back on a 2% error rate.
 */
import { Plan } from "@canaryroll/core"

export const checkoutPlan = Plan.make({
  steps: [
    { percentage: 1, waitSeconds: 10 * 60 },
    { percentage: 10, waitSeconds: 10 * 60 },
    { percentage: 50, waitSeconds: 30 * 60 },
    { percentage: 100, waitSeconds: 15 * 60 }
  ],
  health: {
    intervalSeconds: 60,
    failuresBeforeAction: 3,
    maxErrorRate: 0.02,
    maxErrorRateIncrease: 0.01,
    minRequests: 100,
    analyticsDelaySeconds: 120
  }
})
