/**
 * The shapes of OpenSLO v1 documents once they passed their JSON Schema ({@link SCHEMAS}): what the builder may
 * assume. Fields the schema leaves optional are optional here.
 */

export interface RawMetadata {
  readonly name: string;
  readonly displayName?: string;
  readonly labels?: Readonly<Record<string, string | readonly string[]>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RawMetricSource {
  readonly metricSource: { readonly type: string; readonly spec: { readonly query: string } };
}

export interface RawSliSpec {
  readonly description?: string;
  readonly thresholdMetric?: RawMetricSource;
  readonly ratioMetric?: {
    readonly counter: true;
    readonly good?: RawMetricSource;
    readonly bad?: RawMetricSource;
    readonly total: RawMetricSource;
  };
}

export interface RawConditionSpec {
  readonly description?: string;
  readonly severity: 'page' | 'ticket';
  readonly condition: {
    readonly kind: 'burnrate';
    readonly op?: 'gt' | 'gte';
    readonly threshold: number;
    readonly lookbackWindow: string;
    readonly shortWindow?: string;
    readonly alertAfter?: string;
  };
}

export interface RawConditionItem {
  readonly conditionRef?: string;
  readonly kind?: 'AlertCondition';
  readonly metadata?: RawMetadata;
  readonly spec?: RawConditionSpec;
}

export interface RawAlertPolicySpec {
  readonly description?: string;
  readonly alertWhenBreaching?: boolean;
  readonly conditions: readonly RawConditionItem[];
}

export interface RawAlertPolicyItem {
  readonly alertPolicyRef?: string;
  readonly kind?: 'AlertPolicy';
  readonly metadata?: RawMetadata;
  readonly spec?: RawAlertPolicySpec;
}

export interface RawTimeWindow {
  readonly duration: string;
  readonly isRolling?: boolean;
  readonly calendar?: { readonly startTime?: string; readonly timeZone: string };
}

export interface RawObjective {
  readonly name?: string;
  readonly displayName?: string;
  readonly op?: 'lte' | 'lt' | 'gte' | 'gt';
  readonly value?: number;
  readonly target?: number;
  readonly targetPercent?: number;
  readonly timeSliceTarget?: number;
  readonly timeSliceWindow?: string;
}

export interface RawSloSpec {
  readonly description?: string;
  readonly service: string;
  readonly indicatorRef?: string;
  readonly indicator?: { readonly metadata: RawMetadata; readonly spec: RawSliSpec };
  readonly timeWindow: readonly [RawTimeWindow];
  readonly budgetingMethod: 'Occurrences' | 'Timeslices';
  readonly objectives: readonly RawObjective[];
  readonly alertPolicies?: readonly RawAlertPolicyItem[];
}
