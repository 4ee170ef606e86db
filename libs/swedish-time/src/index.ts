export { addHours, civilTime, dateExists, epochToInstant, instantToEpoch, isDate, isInstant, timeExists, utcMs, type CivilTime } from './calendar';
export {
  SWEDISH_ZONE,
  fromSwedishWallClock,
  pad,
  swedishDate,
  swedishOffset,
  swedishYear,
  toSwedishOffsetDateTime,
  toSwedishWallClock,
  type WallClock,
} from './stockholm';
export { fromOffsetDateTime } from './offset-time';
export { isoDurationMs } from './duration';
