import { CHARSETS, type Format } from '@svu/dialects';

const MEDIA: Readonly<Record<Format, string>> = { lifecare: 'application/xml', webcare: 'application/xml', samsa: 'application/json', canonical: 'application/json' };

/** Media type of each form on the wire (HTTP Content-Type, AMQP content_type), with its character set. */
export const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  lifecare: `${MEDIA.lifecare}; charset=${CHARSETS.lifecare}`,
  webcare: `${MEDIA.webcare}; charset=${CHARSETS.webcare}`,
  samsa: `${MEDIA.samsa}; charset=${CHARSETS.samsa}`,
  canonical: `${MEDIA.canonical}; charset=${CHARSETS.canonical}`,
};
