import * as fs from 'fs';
import { Stack, StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface SiteStackProps extends StackProps {
  readonly bucket: s3.IBucket;
  readonly distribution: cloudfront.IDistribution;
  /** The built frontend; deployed only if the folder exists at synth time. */
  readonly frontendBuildDir: string;
  readonly apiUrl: string;
  readonly wsUrl: string;
}

/**
 * The frontend's content: the build (if present) and /config.json with the URLs of this
 * deployment's APIs, written at deploy time, then a CloudFront invalidation.
 */
export class SiteStack extends Stack {
  public readonly deployment: s3deploy.BucketDeployment;
  public readonly includesBuild: boolean;

  constructor(scope: Construct, id: string, props: SiteStackProps) {
    super(scope, id, props);

    this.includesBuild = fs.existsSync(props.frontendBuildDir) && fs.statSync(props.frontendBuildDir).isDirectory();
    const sources: s3deploy.ISource[] = [];
    if (this.includesBuild) sources.push(s3deploy.Source.asset(props.frontendBuildDir));
    sources.push(s3deploy.Source.jsonData('config.json', { apiUrl: props.apiUrl, wsUrl: props.wsUrl }));

    this.deployment = new s3deploy.BucketDeployment(this, 'DeploySite', {
      sources,
      destinationBucket: props.bucket,
      distribution: props.distribution,
      distributionPaths: ['/*'],
      // Without a build, only config.json is deployed: keep whatever else is in the bucket.
      prune: this.includesBuild,
      memoryLimit: 512,
    });

    // The BucketDeployment handler is a singleton Lambda provided and maintained by aws-cdk-lib.
    const stack = Stack.of(this);
    const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (handler) {
      NagSuppressions.addResourceSuppressions(
        handler,
        [
          {
            id: 'AwsSolutions-IAM4',
            reason:
              'The aws-cdk-lib BucketDeployment handler uses AWSLambdaBasicExecutionRole to write its own logs; the role is created by aws-cdk-lib.',
            appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
          },
          {
            id: 'AwsSolutions-IAM5',
            reason:
              'The aws-cdk-lib BucketDeployment handler copies the objects of the CDK asset bucket into the site bucket and invalidates the distribution: it needs object-level wildcards on those two buckets, the s3 action families grantRead/grantReadWrite give, and cloudfront:CreateInvalidation/GetInvalidation, which take no resource.',
            appliesTo: [
              'Action::s3:GetObject*',
              'Action::s3:GetBucket*',
              'Action::s3:List*',
              'Action::s3:DeleteObject*',
              'Action::s3:Abort*',
              // The CDK bootstrap asset bucket (default qualifier), whatever the account and region.
              { regex: '/^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-(<AWS::AccountId>|[0-9]+)-(<AWS::Region>|[a-z0-9-]+)\\/\\*$/g' },
              // The site bucket (imported from notes-<stage>-frontend), objects only.
              {
                regex:
                  '/^Resource::(<SiteBucket[0-9A-F]+\\.Arn>|notes-[a-z0-9-]+-frontend:ExportsOutputFnGetAttSiteBucket[0-9A-F]+Arn[0-9A-F]+)\\/\\*$/g',
              },
              'Resource::*',
            ],
          },
          {
            id: 'AwsSolutions-L1',
            reason:
              'The BucketDeployment handler runtime is chosen and updated by aws-cdk-lib, not by this app.',
          },
        ],
        true,
      );
    }
  }
}
