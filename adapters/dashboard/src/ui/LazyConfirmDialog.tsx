/**
 * The confirmation dialog, its code (react-aria's modal, focus scope and text field) loaded when
 * a person first asks for a confirmation rather than with the screen: it is the heaviest part of
 * the plans, settings and account screens and none of them needs it before a click
 * (docs/dashboard.md, first load). Nothing is rendered while it is closed.
 */
import { lazy, Suspense } from "react"
import type { ConfirmDialogProps } from "./ConfirmDialog.tsx"

const Loaded = lazy(() => import("./ConfirmDialog.tsx").then((module) => ({ default: module.ConfirmDialog })))

export const ConfirmDialog = (props: ConfirmDialogProps) =>
  props.isOpen ? <Suspense fallback={null}><Loaded {...props} /></Suspense> : null
