import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { isDate, isInstant } from '@svu/swedish-time';
import ackBody from '../../../schemas/body-acknowledgement.schema.json';
import admissionBody from '../../../schemas/body-admission.schema.json';
import cancellationBody from '../../../schemas/body-cancellation.schema.json';
import careContactBody from '../../../schemas/body-care-contact.schema.json';
import dischargeEstimateBody from '../../../schemas/body-discharge-estimate.schema.json';
import dischargedBody from '../../../schemas/body-discharged.schema.json';
import messageBody from '../../../schemas/body-message.schema.json';
import readyBody from '../../../schemas/body-ready-for-discharge.schema.json';
import sipBody from '../../../schemas/body-sip-invitation.schema.json';
import codes from '../../../schemas/codes.schema.json';
import message from '../../../schemas/message.schema.json';
import patient from '../../../schemas/patient.schema.json';

/** Every schema file the canonical message is made of, keyed by its $id. */
export const CANONICAL_SCHEMAS = [
  codes,
  patient,
  ackBody,
  admissionBody,
  cancellationBody,
  careContactBody,
  dischargeEstimateBody,
  dischargedBody,
  messageBody,
  readyBody,
  sipBody,
  message,
] as const;

/**
 * An ajv instance for the project's schemas (JSON Schema 2020-12) with the formats a pattern
 * cannot express. By default unknown keys vanish, as the contract says message readers ignore them;
 * configuration files keep them, so that a misspelt key is an error.
 */
export function createAjv(options: { removeUnknown?: boolean } = {}): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    verbose: true,
    removeAdditional: options.removeUnknown ?? true,
    strictRequired: false,
    strictTypes: false,
  });
  ajv.addFormat('svu-instant', { type: 'string', validate: isInstant });
  ajv.addFormat('svu-date', { type: 'string', validate: isDate });
  return ajv;
}

let compiled: ValidateFunction | undefined;

/** The compiled validator of the canonical message (compiled once, on first use). */
export function canonicalValidator(): ValidateFunction {
  if (compiled === undefined) {
    const ajv = createAjv();
    for (const schema of CANONICAL_SCHEMAS) ajv.addSchema(schema);
    compiled = ajv.getSchema('message.schema.json')!;
  }
  return compiled;
}

export type { ErrorObject };
