// The API's answers as the dashboard reads them (apps/server/src/http/app.ts and login.ts).

export type Scope = 'read' | 'deploy' | 'admin';

export interface Release {
  readonly tag: string;
  /** `sha256:<64 hex>` */
  readonly digest: string;
}

export interface SessionInfo {
  readonly caller: { readonly name: string; readonly scopes: readonly Scope[] };
  readonly csrfToken: string;
  readonly expiresAt: string;
}

export interface StageSummary {
  readonly name: string;
  /** The policy's kind: `glob`, `regex`, `semver`, … */
  readonly policy: string;
  /** The host name that routes to the stage, when it has one. */
  readonly host: string | null;
  /** A person confirms every release (and types the stage name in the dashboard). */
  readonly confirm: boolean;
  readonly promoteFrom: string | null;
  readonly autoDeploy: boolean;
  readonly pin: string | null;
  readonly actual: Release | null;
  readonly desired: (Release & { readonly reason: string }) | null;
}

export interface ProjectSummary {
  readonly id: string;
  readonly registry: string;
  readonly repository: string;
  readonly image: string | null;
  /** In config order. */
  readonly stages: readonly StageSummary[];
}

export type DecisionAction = 'none' | 'deploy' | 'await-confirmation' | 'hold';

export interface StageDecision {
  readonly action: DecisionAction;
  readonly reason: string;
  readonly release?: Release;
}

export interface PlanEntry {
  readonly project: string;
  readonly stage: string;
  readonly decision: StageDecision;
}

export type DeployTrigger = 'auto' | 'manual' | 'promotion' | 'rollback' | 'pin' | 'resume';

export interface JournalEntry {
  readonly seq: number;
  readonly state: string;
  readonly at: string;
  readonly note?: string;
}

export interface DeployRecord {
  readonly id: string;
  readonly project: string;
  readonly stage: string;
  readonly release: Release;
  readonly previous?: Release;
  readonly trigger: DeployTrigger;
  readonly state: string;
  readonly finished: boolean;
  readonly error?: { readonly code: string; readonly message: string };
  readonly journal: readonly JournalEntry[];
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Who asked for it, when a person did (the API records it). */
  readonly by?: string;
}

export interface Approval {
  readonly id: string;
  readonly project: string;
  readonly stage: string;
  readonly release: Release;
  readonly status: 'pending' | 'approved' | 'rejected';
  readonly requestedAt: string;
  readonly decidedAt?: string;
  readonly decidedBy?: string;
  readonly comment?: string;
  readonly current?: Release;
}

export interface StageDetail extends StageSummary {
  readonly project: string;
  readonly decision: StageDecision | null;
  readonly deploys: readonly DeployRecord[];
  readonly approvals: readonly Approval[];
}

export interface StageTags {
  readonly project: string;
  readonly stage: string;
  readonly repository: string;
  readonly tags: readonly string[];
  readonly allowed: readonly string[];
  readonly selected?: string;
  readonly reason: string;
}

export interface LogLine {
  readonly seq: number;
  readonly at: string;
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly line: string;
}

/** The API's error body: `{ error: { code, message } }`. */
export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly fields?: unknown };
}
