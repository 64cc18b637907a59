/** Bad options or node configs, thrown at boot (or by `addNode`). @publicApi */
export class InvalidLoadBalancerOptionsError extends Error {
  override readonly name = 'InvalidLoadBalancerOptionsError';
}
