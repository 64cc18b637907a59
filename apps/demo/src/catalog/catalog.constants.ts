/** Name of the balancer (and its HTTP client) in front of the product/inventory service nodes. */
export const CATALOG_UPSTREAM = 'catalog';

/** Cache key of one product (the namespace is added by the cache). */
export const productKey = (id: string): string => `product:${id}`;
