import type { Format } from '@svu/dialects';

/** Media type of each form on the wire (HTTP Content-Type, AMQP content_type). */
export const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  lifecare: 'application/xml; charset=utf-8',
  webcare: 'application/xml; charset=iso-8859-1',
  samsa: 'application/json; charset=utf-8',
  canonical: 'application/json; charset=utf-8',
};
