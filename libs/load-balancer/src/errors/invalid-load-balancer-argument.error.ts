/** A bad argument of a call at run time (`report`, `execute` options, `pick` key, HTTP request options). @publicApi */
export class InvalidLoadBalancerArgumentError extends Error {
  override readonly name = 'InvalidLoadBalancerArgumentError';
}
