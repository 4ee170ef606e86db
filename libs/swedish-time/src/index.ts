export { addHours, dateExists, epochToInstant, instantToEpoch, isDate, isInstant, timeExists, utcMs } from './calendar';
export {
  SWEDISH_ZONE,
  fromSwedishWallClock,
  pad,
  swedishDate,
  swedishOffset,
  swedishYear,
  toSwedishWallClock,
  type WallClock,
} from './stockholm';
export { fromOffsetDateTime, toSwedishOffsetDateTime } from './offset-time';
export { isoDurationMs } from './duration';
