/** The time, re-read every `everyMs` while mounted (for countdowns). */
import { useEffect, useState } from "react"

export const useNow = (everyMs = 1_000) => {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs)
    return () => clearInterval(timer)
  }, [everyMs])
  return now
}
