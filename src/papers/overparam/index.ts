import { paperSpecFile, type Paper } from '../paper.js';
import { overparamReport } from './report.js';

export const overparamPaper: Paper = {
  name: 'overparam',
  specFile: paperSpecFile('overparam'),
  report: overparamReport,
};
