/**
 * kumo's scheduler: agents, frameworks, resource offers, the weighted DRF allocator,
 * the task life cycle, executors and the built-in jobs framework. Imports only `core`:
 * it knows nothing of clouds.
 */
export { Scheduler } from './scheduler.js';
export type { FrameworkInfo, PassResult, RoleInfo, SchedulerSnapshot } from './scheduler.js';
export { SchedulerOptionsSchema, RoleConfigSchema } from './scheduler-schemas.js';
export type {
  SchedulerOptions,
  SchedulerOptionsInput,
  RoleConfig,
  RoleConfigInput,
} from './scheduler-schemas.js';

export type { AgentStatus } from './agents/agent.js';
export type { AgentInfo } from './agents/agent-info.js';
export {
  AgentAttributesSchema,
  AgentSpecSchema,
  AgentUpdateSchema,
  DrainOptionsSchema,
} from './agents/agent-schemas.js';
export type {
  AgentAttributes,
  AgentAttributesInput,
  AgentSpec,
  AgentSpecInput,
  AgentUpdateInput,
  DrainOptionsInput,
} from './agents/agent-schemas.js';

export {
  AgentResourcesSchema,
  PartialResourcesSchema,
  PortRangeSchema,
  RoleSchema,
  TaskResourcesSchema,
} from './resources/resource-schemas.js';
export type {
  AgentResources,
  AgentResourcesInput,
  PartialResources,
  TaskResources,
  TaskResourcesInput,
} from './resources/resource-schemas.js';
export type { PortRange } from './resources/ports.js';

export { DrfSorter, SorterNode } from './sorter/drf-sorter.js';
export type { RoleQuota } from './sorter/drf-sorter.js';
export type { Scalars } from './resources/scalars.js';
export { OfferFilters } from './filters/offer-filters.js';

export type { InverseOffer, Offer, RescindReason } from './offers/offer.js';
export type { TaskInfo, TaskStatus } from './tasks/task.js';
export { TASK_STATES, canTransition, isTerminal } from './tasks/task-state.js';
export type { TaskReason, TaskState } from './tasks/task-state.js';

export { FrameworkHandle } from './frameworks/framework-handle.js';
export type { AcceptResult } from './frameworks/framework-handle.js';
export type { FrameworkCallbacks, FrameworkEvent } from './frameworks/framework-events.js';
export {
  DemandInputSchema,
  FrameworkSpecSchema,
  OperationSchema,
  RefuseOptionsSchema,
  TaskSpecSchema,
} from './frameworks/framework-schemas.js';
export type {
  DemandInput,
  FrameworkSpec,
  FrameworkSpecInput,
  Operation,
  OperationInput,
  RefuseOptionsInput,
  TaskSpec,
  TaskSpecInput,
} from './frameworks/framework-schemas.js';
export { EventStream } from './frameworks/event-stream.js';
export type { DemandItem } from './demand.js';

export type {
  Executor,
  ExecutorReport,
  TaskLaunch,
  TaskRun,
  TaskSink,
} from './executors/executor.js';
export { InstantExecutor } from './executors/instant-executor.js';
export type { InstantExecutorOptions, InstantOutcome } from './executors/instant-executor.js';
export { LocalProcessExecutor, taskEnvironment } from './executors/local-process-executor.js';
export type { LocalProcessExecutorOptions } from './executors/local-process-executor.js';

export {
  ConstraintSchema,
  EMPTY_PLACEMENT,
  attributeValue,
  canPlace,
  explainPlacement,
  matchesAttributes,
  maxPlaceable,
  resourceFit,
} from './jobs/constraints.js';
export type {
  AgentView,
  Constraint,
  ConstraintInput,
  PlacementContext,
  PlacementRequest,
} from './jobs/constraints.js';
export { JobsFramework } from './jobs/jobs-framework.js';
export type { JobDemand, JobsStats } from './jobs/jobs-framework.js';
export type { JobState, JobStatus } from './jobs/job.js';
export {
  JobResourcesSchema,
  JobSpecSchema,
  JobsFrameworkOptionsSchema,
  RetryPolicySchema,
} from './jobs/job-schemas.js';
export type { JobSpec, JobSpecInput, JobsFrameworkOptionsInput } from './jobs/job-schemas.js';
