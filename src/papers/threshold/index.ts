import { paperSpecFile, type Paper } from '../paper.js';
import { thresholdReport } from './report.js';

export const thresholdPaper: Paper = {
  name: 'threshold',
  specFile: paperSpecFile('threshold'),
  report: thresholdReport,
};
