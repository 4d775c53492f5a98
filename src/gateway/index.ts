/**
 * `kumo/gateway`: an OpenStack-compatible API over a logical datacenter. Start it with
 * `kumo serve -f kumo.yaml --listen 127.0.0.1:5000`, or from code with
 * {@link createGateway}.
 */
export { createGateway, Gateway, type GatewayOptions } from './gateway.js';
export {
  GatewaySpecSchema,
  type GatewaySpec,
  type GatewaySpecInput,
} from '../logical-dc/gateway-spec.js';
export { serviceCatalog, SERVICE_PATHS, type CatalogEntry } from './identity/catalog.js';
export { hashPassword, verifyPassword, type PasswordHash } from './identity/passwords.js';
export { MAX_MICROVERSION, MIN_MICROVERSION } from './compute/microversion.js';
export { flavorsFromSizes, flavorName, type Flavor } from './compute/flavors.js';
