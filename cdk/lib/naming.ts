/** CamelCase construct id for a function name (publish-note -> PublishNote). */
export function constructIdFor(name: string): string {
  return name
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

/** A construct id for a key of topology.json (noteCreated -> NoteCreated, broadcastShardsDlq -> BroadcastShardsDlq). */
export function constructIdForKey(key: string): string {
  return key.charAt(0).toUpperCase() + key.slice(1);
}

/** NoteCreatedDlqNotEmpty -> note-created-dlq-not-empty, noteCreated -> note-created (alarm and queue names). */
export function kebab(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/**
 * `notes-<stage>`: the prefix of every stack name and of every resource name the app sets, so two
 * environments (stages) live side by side in one account. It is also the local stack's naming
 * (`notes-local`, `notes-local-bus`, …), which the SAM-only synthesis (stage `local`) relies on.
 */
export function resourcePrefix(stage: string): string {
  return `notes-${stage}`;
}

/** `notes-<stage>-<suffix>` (or `notes-<stage>` alone). */
export function resourceName(stage: string, suffix?: string): string {
  return suffix ? `${resourcePrefix(stage)}-${suffix}` : resourcePrefix(stage);
}

/** The parts of the app, one stack each (`sam` is the SAM CLI's local-testing stack). */
export type StackPart = 'data' | 'frontend' | 'backend' | 'site' | 'sam';

/** Stack id and CloudFormation stack name: `notes-<stage>-<part>`. */
export function stackName(stage: string, part: StackPart): string {
  return resourceName(stage, part);
}
