export * from './report-store';
