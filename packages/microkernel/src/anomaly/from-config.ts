import type { ForgeConfig } from '@forgeone/common';
import type { AnomalyOptions } from './detector.js';

/** Anomaly-detector tuning from `policy.anomaly`. */
export function anomalyOptionsFromConfig(config: Pick<ForgeConfig, 'policy'>): Partial<AnomalyOptions> {
  const anomaly = config.policy.anomaly;
  return {
    spikeFactor: anomaly.spike_factor,
    denialBurst: anomaly.denial_burst,
    denialWindowMs: anomaly.denial_window,
    warmupMs: anomaly.warmup,
  };
}
