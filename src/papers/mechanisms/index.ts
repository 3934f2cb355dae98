import { paperSpecFile, type Paper } from '../paper.js';
import { mechanismsReport } from './report.js';

export const mechanismsPaper: Paper = {
  name: 'mechanisms',
  specFile: paperSpecFile('mechanisms'),
  report: mechanismsReport,
};
