import { paperSpecFile, type Paper } from '../paper.js';
import { jacobianReport } from './report.js';

export const jacobianPaper: Paper = {
  name: 'jacobian',
  specFile: paperSpecFile('jacobian'),
  report: jacobianReport,
};
