/** The switcher's name says what it does and contains what it shows (WCAG 2.5.3). */
export const SwitcherText = ({ label }: { readonly label: string }) => (
  <><span className="visually-hidden">Switch team, now </span>{label}<span aria-hidden="true"> ▾</span></>
)
