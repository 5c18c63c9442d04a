// Every mutating action goes through one confirmation dialog (the layout renders it).

export interface ConfirmRequest {
  readonly title: string;
  /** What will happen, as plain text lines (rendered as text). */
  readonly lines: readonly string[];
  readonly confirmLabel: string;
  readonly danger?: boolean;
  /** For stages with `confirm: true`: the user types this name first. */
  readonly typeToConfirm?: string;
  /** Offer an optional comment (approvals). */
  readonly comment?: boolean;
  /** The action; its error is shown in the dialog, which stays open. */
  run(comment: string | undefined): Promise<unknown>;
  /** After the action succeeded and the dialog closed. */
  done?(result: unknown): void;
}

class Confirmer {
  current = $state.raw<ConfirmRequest | undefined>(undefined);

  ask(request: ConfirmRequest): void {
    this.current = request;
  }

  close(): void {
    this.current = undefined;
  }
}

export const confirmer = new Confirmer();
