/** The button of a react-aria Select: the chosen item's text only (its description stays in the list). */
import { Button, SelectValue } from "react-aria-components"

export const SelectButton = ({ placeholder }: { readonly placeholder: string }) => (
  <Button className="button select-button">
    <SelectValue>{({ selectedText, isPlaceholder }) => isPlaceholder ? placeholder : selectedText}</SelectValue> <span aria-hidden="true">▾</span>
  </Button>
)
