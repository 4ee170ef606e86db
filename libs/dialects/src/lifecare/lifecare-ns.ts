/** The namespace of lifecare documents; readers match it by URI, writers use the prefix lc. */
export const LIFECARE_NS = 'urn:lifecare:sp:svu:2';
