import { paperSpecFile, type Paper } from '../paper.js';
import { flsReport } from './report.js';

export const flsPaper: Paper = {
  name: 'fls',
  specFile: paperSpecFile('fls'),
  report: flsReport,
};
