"""Batch jobs: a manifest (CSV with a header row, or a JSON array; one row = one video request) uploaded
under `batches/` becomes one video per valid row and a report under `reports/`.

    trigger.py   S3 "Object Created" event -> StartExecution of the batch machine (named from the object)
    manifest.py  parse and validate every row with the same VideoRequest model
    naming.py    execution names from (bucket, key, ETag[, row]): a re-delivered event starts nothing twice
    steps.py     the work of the batch machine's states: ingest, start one video, write the report
    callbacks.py the video machine's answer to a row's task token
    local.py     `faceless batch`: the same machine in the embedded runner, against moto S3
"""
