/**
 * The confirmation every release action asks for: what will happen, an optional reason (kept in
 * the audit log), and the API's message when it refuses. An accessible modal dialog
 * (react-aria-components: focus kept inside, Escape closes, the trigger gets focus back).
 */
import { useState } from "react"
import { Button, Dialog, Heading, Label, Modal, ModalOverlay, TextArea, TextField } from "react-aria-components"
import { messageOf } from "../api/Client.ts"

export interface ConfirmDialogProps {
  readonly title: string
  readonly description: string
  readonly confirmLabel: string
  readonly danger?: boolean
  /** Whether to ask for a reason. */
  readonly withReason?: boolean
  readonly isOpen: boolean
  readonly onOpenChange: (open: boolean) => void
  /** Runs the action; a rejection's message is shown in the dialog. */
  readonly onConfirm: (reason: string | undefined) => Promise<unknown>
}

export const ConfirmDialog = (props: ConfirmDialogProps) => {
  const [reason, setReason] = useState("")
  const [problem, setProblem] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const close = () => {
    setReason("")
    setProblem(undefined)
    props.onOpenChange(false)
  }
  const confirm = async () => {
    setBusy(true)
    setProblem(undefined)
    try {
      await props.onConfirm(reason.trim() === "" ? undefined : reason.trim())
      close()
    } catch (error) {
      setProblem(messageOf(error))
    } finally {
      setBusy(false)
    }
  }
  return (
    <ModalOverlay className="overlay" isDismissable={!busy} isOpen={props.isOpen} onOpenChange={(open) => open ? props.onOpenChange(true) : close()}>
      <Modal className="modal">
        <Dialog className="dialog">
          <Heading slot="title">{props.title}</Heading>
          <p>{props.description}</p>
          {props.withReason === false ? null : (
            <TextField className="field" value={reason} onChange={setReason} maxLength={1000}>
              <Label>Reason (optional, kept in the audit log)</Label>
              <TextArea rows={2} />
            </TextField>
          )}
          {problem === undefined ? null : <p className="problem" role="alert">{problem}</p>}
          <div className="buttons">
            <Button className="button" onPress={close} isDisabled={busy}>Keep as is</Button>
            <Button className={props.danger === true ? "button danger" : "button primary"} onPress={confirm} isDisabled={busy}>
              {busy ? "Working…" : props.confirmLabel}
            </Button>
          </div>
        </Dialog>
      </Modal>
    </ModalOverlay>
  )
}
