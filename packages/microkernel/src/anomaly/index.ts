export { AnomalyDetector, DEFAULT_ANOMALY_OPTIONS, type Anomaly, type AnomalyKind, type AnomalyOptions } from './detector.js';
export { anomalyResponder, type AnomalyAction, type AnomalyResponderOptions } from './responder.js';
export { anomalyOptionsFromConfig } from './from-config.js';
