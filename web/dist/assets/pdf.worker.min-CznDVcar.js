const s="/assets/pdf.worker.min-CIqJB0yW.mjs";export{s as default};
