/**
 * - `healthy`: selectable.
 * - `ejected`: removed from rotation by outlier detection or failing active health checks.
 * - `probing`: ejection ended; admits one request at a time until one succeeds.
 * - `draining`: being removed; takes no new requests, waits for its in-flight ones.
 * @publicApi
 */
export type NodeState = 'healthy' | 'ejected' | 'probing' | 'draining';
