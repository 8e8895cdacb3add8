/** A link that changes the route without reloading the page (a modified click opens a new tab as usual). */
import type { ReactNode } from "react"
import { navigate } from "./Router.tsx"

export const Link = ({ to, children, className, current }: {
  readonly to: string
  readonly children: ReactNode
  readonly className?: string
  /** Marks the link to the page being shown (`aria-current="page"`), as a navigation bar does. */
  readonly current?: boolean
}) => (
  <a
    href={to}
    className={className}
    aria-current={current === true ? "page" : undefined}
    onClick={(event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
      event.preventDefault()
      navigate(to)
    }}
  >
    {children}
  </a>
)
