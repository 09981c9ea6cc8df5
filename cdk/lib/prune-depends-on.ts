import { CfnResource, IAspect, Lazy, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * aws-cdk-lib makes every Lambda function DependsOn its execution role although the function
 * already references the role through Fn::GetAtt, which cfn-lint reports (W3005). This aspect
 * renders each function's DependsOn without the roles its properties already reference; the other
 * dependencies (the role's policy, which must exist before the function is used) are kept.
 */
export class PruneRedundantLambdaDependsOn implements IAspect {
  public visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || node.cfnResourceType !== 'AWS::Lambda::Function') return;
    const stack = Stack.of(node);
    node.addOverride(
      'DependsOn',
      Lazy.any({
        produce: () => {
          // Resolved after the app's dependencies are final (at template rendering).
          const props = JSON.stringify(stack.resolve((node as unknown as { cfnProperties: unknown }).cfnProperties));
          const kept = node
            .obtainDependencies()
            .filter((d): d is CfnResource => d instanceof CfnResource)
            .map((d) => ({ d, id: stack.resolve(d.logicalId) as string }))
            .filter(({ d, id }) => !(d.cfnResourceType === 'AWS::IAM::Role' && props.includes(`"${id}"`)))
            .map(({ id }) => id)
            .sort();
          return kept.length > 0 ? kept : undefined;
        },
      }),
    );
  }
}
