/** The team switcher's menu (react-aria Menu): loaded on the first click, open at once. */
import type { Team } from "@canaryroll/api/Schemas"
import { Button, Menu, MenuItem, MenuTrigger, Popover } from "react-aria-components"
import { navigate, teamPath } from "./routing/Router.tsx"
import { roleNames } from "./session/Session.ts"
import { SwitcherText } from "./ui/SwitcherText.tsx"

export default function TeamMenu({ label, teams }: { readonly label: string; readonly teams: ReadonlyArray<Team> }) {
  return (
    <MenuTrigger defaultOpen>
      <Button className="button switcher"><SwitcherText label={label} /></Button>
      <Popover className="popover">
        <Menu className="menu" aria-label="Teams" autoFocus="first" onAction={(key) => navigate(String(key))}>
          {teams.map((team) => (
            <MenuItem className="menu-item" key={team.id} id={teamPath(team.slug)} textValue={team.name}>
              {team.name} <span className="muted">({roleNames[team.role]})</span>
            </MenuItem>
          ))}
          <MenuItem className="menu-item" id="/new-team">Create a team…</MenuItem>
        </Menu>
      </Popover>
    </MenuTrigger>
  )
}
